<?php

namespace ItopIntercom\Messenger;

/**
 * The real iTop behind Environment: the logged-in user, their contact, OQL with their rights,
 * iTop's session and log, and this module's settings.
 */
class ItopEnvironment implements Environment
{
	const MODULE = 'itop-intercom-messenger';

	public function CurrentUser()
	{
		if (!\UserRights::IsLoggedIn()) {
			return null;
		}
		$aProfiles = \UserRights::ListProfiles();

		return array(
			'id' => (string) \UserRights::GetUserId(),
			'login' => (string) \UserRights::GetUser(),
			'profiles' => array_values(array_map('strval', is_array($aProfiles) ? $aProfiles : array())),
		);
	}

	public function CurrentPerson()
	{
		$oContact = \UserRights::GetContactObject();
		if ($oContact === null) {
			return null;
		}
		$sClass = get_class($oContact);

		return array(
			'class' => $sClass,
			'id' => (int) $oContact->GetKey(),
			'name' => (string) $oContact->GetName(),
			'email' => static::Attribute($oContact, $sClass, 'email'),
			'org_id' => (int) static::Attribute($oContact, $sClass, 'org_id'),
			'org_name' => static::Attribute($oContact, $sClass, 'org_name')
				?: static::Attribute($oContact, $sClass, 'org_id_friendlyname'),
		);
	}

	public function ScopeMatches(string $sOql): bool
	{
		// DBObjectSet applies the current user's rights (their organisations, their profiles):
		// the scope admits the users who can see at least one of its objects.
		$oSearch = \DBObjectSearch::FromOQL($sOql);
		$oSet = new \DBObjectSet($oSearch);
		$oSet->SetLimit(1);

		return $oSet->Fetch() !== null;
	}

	public function SessionGet(string $sKey)
	{
		if (class_exists('Combodo\iTop\Application\Helper\Session')) {
			return \Combodo\iTop\Application\Helper\Session::Get($sKey);
		}

		return isset($_SESSION[$sKey]) ? $_SESSION[$sKey] : null;
	}

	public function SessionSet(string $sKey, $value): void
	{
		// iTop closes the session early; its helper reopens it for the write.
		if (class_exists('Combodo\iTop\Application\Helper\Session')) {
			\Combodo\iTop\Application\Helper\Session::Set($sKey, $value);
		} elseif (session_status() === PHP_SESSION_ACTIVE) {
			$_SESSION[$sKey] = $value;
		}
	}

	public function Warn(string $sMessage): void
	{
		if (class_exists('IssueLog')) {
			\IssueLog::Warning($sMessage, static::MODULE);
		} else {
			error_log(static::MODULE.': '.$sMessage);
		}
	}

	public function Setting(string $sName): string
	{
		$value = \MetaModel::GetModuleSetting(static::MODULE, $sName, '');

		return is_scalar($value) ? trim((string) $value) : '';
	}

	private static function Attribute($oObject, string $sClass, string $sAttCode): string
	{
		if (!\MetaModel::IsValidAttCode($sClass, $sAttCode)) {
			return '';
		}
		$value = $oObject->Get($sAttCode);

		return is_scalar($value) ? (string) $value : '';
	}
}
