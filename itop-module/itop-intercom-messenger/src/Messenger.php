<?php

namespace ItopIntercom\Messenger;

/**
 * The module's one decision per page: the Messenger's snippet, or nothing.
 *
 * The service decides (portal, profile, scope, workspace, signed identity). Scope OQL is
 * evaluated here, with the logged-in user's rights, because iTop's REST API can only run as its
 * own token user; the results are kept in the PHP session. Answers are kept in the session too:
 * a boot until shortly before its identity token expires, a "no Messenger" for the time the
 * service says, a failure for a minute. So the service is asked at most once per user and
 * period, and the whole exchange (two calls at most) gets ~300 ms (the optional setting
 * 'budget_seconds', at most 1 s). Any failure renders the page
 * exactly as without the module, with one warning in iTop's log.
 */
class Messenger
{
	const BOOT_PATH = '/itop/messenger/boot';
	const SESSION_KEY = 'itop_intercom_messenger';
	const BUDGET_SECONDS = 0.3;
	/** The longest budget the optional 'budget_seconds' setting may give: a page is never slowed more. */
	const MAX_BUDGET_SECONDS = 1.0;
	const FAILURE_RETRY_SECONDS = 60;
	const MAX_CACHE_SECONDS = 86400;

	/** @var Environment */
	private $oEnv;
	/** @var ServiceClient|null */
	private $oClient;
	/** @var float */
	private $fBudget;

	public function __construct(Environment $oEnv, $oClient = null, float $fBudget = self::BUDGET_SECONDS)
	{
		$this->oEnv = $oEnv;
		$this->oClient = $oClient;
		$this->fBudget = $fBudget;
	}

	public static function ForItop(): Messenger
	{
		$oEnv = new ItopEnvironment();
		$sUrl = $oEnv->Setting('service_url');
		$sKey = $oEnv->Setting('shared_key');

		return new Messenger(
			$oEnv,
			($sUrl !== '' && $sKey !== '') ? new ServiceClient($sUrl, $sKey) : null,
			static::Budget($oEnv->Setting('budget_seconds'))
		);
	}

	/**
	 * The optional 'budget_seconds' setting (a service reached over a slow network), kept between
	 * 0.05 s and MAX_BUDGET_SECONDS; the default when it is missing or not a number.
	 */
	public static function Budget(string $sSetting): float
	{
		if (!is_numeric($sSetting)) {
			return self::BUDGET_SECONDS;
		}

		return min(max((float) $sSetting, 0.05), self::MAX_BUDGET_SECONDS);
	}

	/** The script for this page of `$sPortal` ('backoffice' or a portal id); '' for none. */
	public function Script(string $sPortal): string
	{
		try {
			return $this->Compute($sPortal);
		} catch (\Throwable $e) {
			$this->oEnv->Warn('Messenger not shown: '.get_class($e).': '.substr($e->getMessage(), 0, 300));

			return '';
		}
	}

	private function Compute(string $sPortal): string
	{
		$aUser = $this->oEnv->CurrentUser();
		if ($aUser === null || $sPortal === '') {
			return '';
		}
		if ($this->oClient === null) {
			return '';
		}
		$aState = $this->State($aUser['id']);
		$sSlot = hash('sha256', $sPortal);
		$fNow = microtime(true);
		if (isset($aState['answers'][$sSlot]) && $aState['answers'][$sSlot]['until'] > $fNow) {
			return $this->Render($aState['answers'][$sSlot]['answer']);
		}

		$fDeadline = $fNow + $this->fBudget;
		try {
			$aAnswer = $this->Ask($sPortal, $aUser, $aState, $fDeadline);
		} catch (\Throwable $e) {
			$aState['answers'][$sSlot] = array('until' => $fNow + static::FAILURE_RETRY_SECONDS, 'answer' => array('status' => 'failed'));
			$this->oEnv->SessionSet(static::SESSION_KEY, $aState);
			$this->oEnv->Warn('Messenger not shown, the itop-intercom service failed: '.substr($e->getMessage(), 0, 300));

			return '';
		}
		$iCache = (int) ($aAnswer['cache_seconds'] ?? 0);
		$iCache = max(0, min($iCache, static::MAX_CACHE_SECONDS));
		$aState['answers'][$sSlot] = array('until' => $fNow + $iCache, 'answer' => $aAnswer);
		$this->oEnv->SessionSet(static::SESSION_KEY, $aState);

		return $this->Render($aAnswer);
	}

	/** The session state of this user (a new login, or another user, starts afresh). */
	private function State(string $sUserId): array
	{
		$aState = $this->oEnv->SessionGet(static::SESSION_KEY);
		if (!is_array($aState) || ($aState['user'] ?? null) !== $sUserId) {
			$aState = array('user' => $sUserId, 'scopes' => array(), 'answers' => array());
		}

		return $aState;
	}

	private function Ask(string $sPortal, array $aUser, array &$aState, float $fDeadline): array
	{
		$aPayload = array(
			'portal' => $sPortal,
			'user' => $aUser,
			'person' => $this->oEnv->CurrentPerson(),
			'scopes' => (object) $aState['scopes'],
		);
		$aAnswer = $this->oClient->Post(static::BOOT_PATH, $aPayload, $fDeadline);
		if (($aAnswer['status'] ?? '') === 'evaluate') {
			foreach ((array) ($aAnswer['scopes'] ?? array()) as $aScope) {
				if (!is_array($aScope) || !is_string($aScope['key'] ?? null) || !is_string($aScope['oql'] ?? null)) {
					throw new \RuntimeException('malformed scope in the answer');
				}
				$aState['scopes'][$aScope['key']] = $this->Evaluate($aScope['oql']);
			}
			$aPayload['scopes'] = (object) $aState['scopes'];
			$aAnswer = $this->oClient->Post(static::BOOT_PATH, $aPayload, $fDeadline);
		}
		$sStatus = $aAnswer['status'] ?? '';
		if ($sStatus === 'boot') {
			if (!is_array($aAnswer['settings'] ?? null) || !is_string($aAnswer['widget_url'] ?? null)
				|| !is_string($aAnswer['marker'] ?? null) || !is_string($aAnswer['settings']['app_id'] ?? null)) {
				throw new \RuntimeException('malformed boot answer');
			}
		} elseif ($sStatus !== 'none') {
			throw new \RuntimeException('unexpected answer status');
		}

		return $aAnswer;
	}

	private function Evaluate(string $sOql): bool
	{
		try {
			return $this->oEnv->ScopeMatches($sOql);
		} catch (\Throwable $e) {
			// A scope iTop cannot run admits nobody; the admin learns why from the log.
			$this->oEnv->Warn('scope OQL failed ('.get_class($e).'): '.substr($e->getMessage(), 0, 300));

			return false;
		}
	}

	private function Render(array $aAnswer): string
	{
		switch ($aAnswer['status'] ?? '') {
			case 'boot':
				return Snippet::Boot($aAnswer);
			case 'none':
				return Snippet::Forget();
			default:
				return '';
		}
	}
}
