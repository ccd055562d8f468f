<?php

namespace ItopIntercom\Messenger\Tests;

use Combodo\iTop\Application\Helper\Session;
use ItopIntercom\Messenger\BackofficeScript;
use ItopIntercom\Messenger\ItopEnvironment;
use ItopIntercom\Messenger\Messenger;
use ItopIntercom\Messenger\PortalScript;
use ItopIntercom\Messenger\ServiceClient;
use PHPUnit\Framework\TestCase;
use Symfony\Component\DependencyInjection\Container;

class MessengerTest extends TestCase
{
	const HOSTILE = '</script><script>alert(1)</script>';

	protected function setUp(): void
	{
		Session::$aValues = array();
		\IssueLog::$aWarnings = array();
		\DBObjectSearch::$aEvaluated = array();
		\MetaModel::$aModuleSettings = array();
		\UserRights::$aUser = array(
			'id' => '6',
			'login' => 'agatha.christie',
			'profiles' => array(2 => 'Portal user'),
			'contact' => new \Person(array(
				'id' => 15, 'first_name' => 'Agatha', 'name' => 'Christie',
				'email' => 'agatha.christie@demo.com', 'org_id' => 3, 'org_name' => 'Demo',
			)),
			'visible' => array("SELECT Organization WHERE name = 'Demo'" => true),
		);
	}

	private static function Boot(string $sName = 'Agatha Christie'): array
	{
		return array(
			'status' => 'boot',
			'workspace' => 'abc123',
			'widget_url' => 'https://widget.intercom.io/widget/abc123',
			'settings' => array('app_id' => 'abc123', 'api_base' => 'https://api-iam.eu.intercom.io', 'name' => $sName, 'intercom_user_jwt' => 'a.b.c'),
			'marker' => 'f00d',
			'cache_seconds' => 3300,
		);
	}

	public function testNobodyLoggedInGetsNothingAndNoCall(): void
	{
		\UserRights::$aUser = null;
		$oService = new FakeService(array(self::Boot()));
		$this->assertSame('', (new Messenger(new ItopEnvironment(), $oService))->Script('itop-portal'));
		$this->assertSame(array(), $oService->aCalls);
	}

	public function testAllowedUserGetsTheMessengerWithTheServiceSettings(): void
	{
		$oService = new FakeService(array(self::Boot()));
		$sScript = (new Messenger(new ItopEnvironment(), $oService))->Script('itop-portal');

		$this->assertStringContainsString('w.intercomSettings = c.settings', $sScript);
		$aConfig = $this->ConfigOf($sScript);
		$this->assertSame('abc123', $aConfig['settings']['app_id']);
		$this->assertSame('https://api-iam.eu.intercom.io', $aConfig['settings']['api_base']);
		$this->assertSame('https://widget.intercom.io/widget/abc123', $aConfig['widget']);
		$aPayload = $oService->aCalls[0]['payload'];
		$this->assertSame('/itop/messenger/boot', $oService->aCalls[0]['path']);
		$this->assertSame('itop-portal', $aPayload['portal']);
		$this->assertSame(array('id' => '6', 'login' => 'agatha.christie', 'profiles' => array('Portal user')), $aPayload['user']);
		$this->assertSame(
			array('class' => 'Person', 'id' => 15, 'name' => 'Agatha Christie', 'email' => 'agatha.christie@demo.com', 'org_id' => 3, 'org_name' => 'Demo'),
			$aPayload['person']
		);
	}

	public function testTheAnswerIsReusedForTheSession(): void
	{
		$oService = new FakeService(array(self::Boot()));
		$oMessenger = new Messenger(new ItopEnvironment(), $oService);
		$sFirst = $oMessenger->Script('itop-portal');
		$sSecond = (new Messenger(new ItopEnvironment(), $oService))->Script('itop-portal');
		$this->assertSame($sFirst, $sSecond);
		$this->assertCount(1, $oService->aCalls);
	}

	public function testAnotherUserInTheSameSessionIsAskedAfresh(): void
	{
		$oService = new FakeService(array(self::Boot(), array('status' => 'none', 'reason' => 'profile', 'cache_seconds' => 300)));
		(new Messenger(new ItopEnvironment(), $oService))->Script('itop-portal');
		\UserRights::$aUser['id'] = '7';
		$sScript = (new Messenger(new ItopEnvironment(), $oService))->Script('itop-portal');
		$this->assertCount(2, $oService->aCalls);
		$this->assertStringNotContainsString('intercomSettings', $sScript);
	}

	public function testRefusedByPortalOrProfileShowsNoMessengerAndForgetsThePrevious(): void
	{
		foreach (array('portal', 'profile', 'scope') as $sReason) {
			Session::$aValues = array();
			$oService = new FakeService(array(array('status' => 'none', 'reason' => $sReason, 'cache_seconds' => 300)));
			$sScript = (new Messenger(new ItopEnvironment(), $oService))->Script('backoffice');
			$this->assertStringNotContainsString('intercomSettings', $sScript, $sReason);
			$this->assertStringNotContainsString('widget', $sScript, $sReason);
			$this->assertStringContainsString('itopIntercomForget(w, d, prev.a)', $sScript, $sReason);
			// Remembered: no second call while the refusal is fresh.
			(new Messenger(new ItopEnvironment(), $oService))->Script('backoffice');
			$this->assertCount(1, $oService->aCalls, $sReason);
		}
	}

	public function testScopesAreEvaluatedWithTheUsersRightsThenSent(): void
	{
		$sDemo = "SELECT Organization WHERE name = 'Demo'";
		$sOther = "SELECT Organization WHERE name = 'Other'";
		$oService = new FakeService(array(
			array('status' => 'evaluate', 'scopes' => array(array('key' => str_repeat('a', 64), 'oql' => $sOther), array('key' => str_repeat('b', 64), 'oql' => $sDemo))),
			self::Boot(),
		));
		$sScript = (new Messenger(new ItopEnvironment(), $oService))->Script('itop-portal');

		$this->assertStringContainsString('intercomSettings', $sScript);
		$this->assertSame(array(array('agatha.christie', $sOther), array('agatha.christie', $sDemo)), \DBObjectSearch::$aEvaluated);
		$this->assertSame(array(), $oService->aCalls[0]['payload']['scopes']);
		$this->assertSame(array(str_repeat('a', 64) => false, str_repeat('b', 64) => true), $oService->aCalls[1]['payload']['scopes']);
	}

	public function testScopeResultsAreKeptForTheNextPortal(): void
	{
		$oService = new FakeService(array(
			array('status' => 'evaluate', 'scopes' => array(array('key' => str_repeat('b', 64), 'oql' => "SELECT Organization WHERE name = 'Demo'"))),
			self::Boot(),
			self::Boot(),
		));
		(new Messenger(new ItopEnvironment(), $oService))->Script('itop-portal');
		(new Messenger(new ItopEnvironment(), $oService))->Script('backoffice');
		$this->assertCount(3, $oService->aCalls);
		$this->assertSame(array(str_repeat('b', 64) => true), $oService->aCalls[2]['payload']['scopes']);
		$this->assertCount(1, \DBObjectSearch::$aEvaluated);
	}

	public function testAScopeIssueCannotRunAdmitsNobodyAndIsLogged(): void
	{
		$oService = new FakeService(array(
			array('status' => 'evaluate', 'scopes' => array(array('key' => str_repeat('c', 64), 'oql' => 'DELETE everything'))),
			array('status' => 'none', 'reason' => 'scope', 'cache_seconds' => 300),
		));
		(new Messenger(new ItopEnvironment(), $oService))->Script('itop-portal');
		$this->assertSame(array(str_repeat('c', 64) => false), $oService->aCalls[1]['payload']['scopes']);
		$this->assertCount(1, \IssueLog::$aWarnings);
		$this->assertStringContainsString('scope OQL failed', \IssueLog::$aWarnings[0]);
	}

	public function testEveryValueStaysText(): void
	{
		$aAnswer = self::Boot(self::HOSTILE);
		$aAnswer['settings']['company'] = array('company_id' => "x'\"&<", 'name' => self::HOSTILE);
		$aAnswer['widget_url'] = 'https://widget.intercom.io/widget/abc123"></script>';
		$sScript = (new Messenger(new ItopEnvironment(), new FakeService(array($aAnswer))))->Script('itop-portal');

		$this->assertStringNotContainsStringIgnoringCase('<script', $sScript);
		$this->assertStringNotContainsStringIgnoringCase('</', $sScript);
		$this->assertStringNotContainsString("x'", $sScript);
		$this->assertStringNotContainsString('"></', $sScript);
		$aConfig = $this->ConfigOf($sScript);
		$this->assertSame(self::HOSTILE, $aConfig['settings']['name']);
		$this->assertSame(self::HOSTILE, $aConfig['settings']['company']['name']);
		$this->assertSame("x'\"&<", $aConfig['settings']['company']['company_id']);
	}

	public function testAMalformedAnswerShowsNothing(): void
	{
		foreach (array(array('status' => 'boot'), array('status' => 'what'), array('status' => 'evaluate', 'scopes' => array('x'))) as $aAnswer) {
			Session::$aValues = array();
			$sScript = (new Messenger(new ItopEnvironment(), new FakeService(array($aAnswer))))->Script('itop-portal');
			$this->assertSame('', $sScript);
		}
		$this->assertCount(3, \IssueLog::$aWarnings);
	}

	public function testServiceDownShowsNothingQuicklyAndIsNotAskedAgainAtOnce(): void
	{
		$rProbe = stream_socket_server('tcp://127.0.0.1:0');
		$sAddress = stream_socket_get_name($rProbe, false);
		fclose($rProbe); // nothing listens there any more
		$oClient = new ServiceClient('http://'.$sAddress.'/', 'k');
		$fStart = microtime(true);
		$sScript = (new Messenger(new ItopEnvironment(), $oClient))->Script('itop-portal');
		$this->assertSame('', $sScript);
		$this->assertLessThan(0.35, microtime(true) - $fStart);
		$this->assertCount(1, \IssueLog::$aWarnings);
		$this->assertStringContainsString('service failed', \IssueLog::$aWarnings[0]);

		(new Messenger(new ItopEnvironment(), $oClient))->Script('itop-portal');
		$this->assertCount(1, \IssueLog::$aWarnings, 'the failure is remembered for a while');
	}

	public function testAServiceThatNeverAnswersCostsAtMostTheBudget(): void
	{
		// Accepts connections (the kernel's backlog) and never answers.
		$rServer = stream_socket_server('tcp://127.0.0.1:0');
		$sAddress = stream_socket_get_name($rServer, false);
		$oClient = new ServiceClient('http://'.$sAddress.'/', 'k');
		$fStart = microtime(true);
		$sScript = (new Messenger(new ItopEnvironment(), $oClient))->Script('itop-portal');
		$fElapsed = microtime(true) - $fStart;
		fclose($rServer);
		$this->assertSame('', $sScript);
		$this->assertGreaterThanOrEqual(0.29, $fElapsed);
		$this->assertLessThan(0.5, $fElapsed, "the 300 ms budget, plus scheduling on a loaded machine");
		$this->assertStringContainsString('did not answer in time', \IssueLog::$aWarnings[0]);
	}

	public function testTheBudgetSettingIsBoundedAndOptional(): void
	{
		$this->assertSame(0.3, Messenger::Budget(''));
		$this->assertSame(0.3, Messenger::Budget('soon'));
		$this->assertSame(0.8, Messenger::Budget('0.8'));
		$this->assertSame(1.0, Messenger::Budget('30'), 'a page is never slowed by more than 1 s');
		$this->assertSame(0.05, Messenger::Budget('0'));
	}

	public function testUnconfiguredModuleShowsNothing(): void
	{
		\MetaModel::$aModuleSettings = array('itop-intercom-messenger' => array('service_url' => 'http://127.0.0.1:9/', 'shared_key' => ''));
		$this->assertSame('', (new BackofficeScript())->GetScript());
		$this->assertSame('', (new PortalScript())->GetJSInline(new Container()));
		$this->assertSame(array(), \IssueLog::$aWarnings);
	}

	public function testHooksAskForTheirPortal(): void
	{
		$this->assertSame('my-portal', PortalScript::PortalId(new Container(array('combodo.portal.instance.id' => 'my-portal'))));
		$_ENV['PORTAL_ID'] = 'env-portal';
		$this->assertSame('env-portal', PortalScript::PortalId(new Container()));
		unset($_ENV['PORTAL_ID']);
	}

	private function ConfigOf(string $sScript): array
	{
		$this->assertSame(1, preg_match('/\}\)\(window, document, (\{.*\})\);\s*$/s', $sScript, $aMatch));
		$aConfig = json_decode($aMatch[1], true);
		$this->assertIsArray($aConfig);

		return $aConfig;
	}
}
