<?php

namespace ItopIntercom\Messenger;

/**
 * What the module needs from iTop, behind one interface so that it can be tested without iTop.
 */
interface Environment
{
	/** @return array{id: string, login: string, profiles: string[]}|null null when nobody is logged in */
	public function CurrentUser();

	/** @return array{class: string, id: int, name: string, email: string, org_id: int, org_name: string}|null */
	public function CurrentPerson();

	/** Whether the OQL returns at least one object when evaluated with the logged-in user's rights. */
	public function ScopeMatches(string $sOql): bool;

	/** @return mixed */
	public function SessionGet(string $sKey);

	/** @param mixed $value */
	public function SessionSet(string $sKey, $value): void;

	public function Warn(string $sMessage): void;

	/** A module setting from iTop's configuration ('' when unset). */
	public function Setting(string $sName): string;
}
