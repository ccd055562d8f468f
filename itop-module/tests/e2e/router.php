<?php
/**
 * A stand-in iTop for `php -S 127.0.0.1:PORT router.php`: one page that runs the module's real
 * hooks (back office or portal) for a stand-in user, the widget stand-in, and a log-off page.
 * The service's URL and the shared key come from the environment, as iTop's configuration
 * would give them.
 *
 *   /page.php?user=agatha&portal=itop-portal   the page (portal=backoffice for the console)
 *   /widget.js                                  stands in for Intercom's widget script
 *   /pages/logoff.php                           iTop's log-off page
 */

use Combodo\iTop\Application\Helper\Session;
use ItopIntercom\Messenger\BackofficeScript;
use ItopIntercom\Messenger\PortalScript;
use Symfony\Component\DependencyInjection\Container;

require_once __DIR__.'/../standins/itop.php';
require_once __DIR__.'/../../itop-intercom-messenger/main.itop-intercom-messenger.php';

$sPath = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($sPath === '/widget.js') {
	header('Content-Type: application/javascript');
	readfile(__DIR__.'/widget.js');

	return true;
}
if ($sPath === '/pages/logoff.php') {
	echo '<!doctype html><title>Logged off</title><p>Logged off</p>';

	return true;
}
if ($sPath !== '/page.php') {
	http_response_code(404);

	return true;
}

$aPeople = array(
	'agatha' => array('6', 'agatha.christie', array('Portal user'), 15, 'Agatha', 'Christie', 'agatha.christie@demo.com', 3, 'Demo', true),
	'pablo' => array('7', 'pablo.picasso', array('Portal user'), 16, 'Pablo', '</script><script>window.__pwned=1</script>', 'pablo.picasso@demo.com', 3, 'Demo', true),
	'victor' => array('5', 'victor.hugo', array('Configuration Manager'), 41, 'Victor', 'Hugo', 'victor.hugo@demo.com', 3, 'Demo', true),
	'frida' => array('8', 'frida.kahlo', array('Portal user'), 17, 'Frida', 'Kahlo', 'frida.kahlo@other.com', 4, 'Other', false),
);
$sWho = $_GET['user'] ?? '';
if (isset($aPeople[$sWho])) {
	list($sId, $sLogin, $aProfiles, $iPerson, $sFirst, $sLast, $sEmail, $iOrg, $sOrg, $bSeesDemo) = $aPeople[$sWho];
	UserRights::$aUser = array(
		'id' => $sId,
		'login' => $sLogin,
		'profiles' => $aProfiles,
		'contact' => new Person(array('id' => $iPerson, 'first_name' => $sFirst, 'name' => $sLast, 'email' => $sEmail, 'org_id' => $iOrg, 'org_name' => $sOrg)),
		'visible' => array("SELECT Organization WHERE name = 'Demo'" => $bSeesDemo),
	);
}
MetaModel::$aModuleSettings['itop-intercom-messenger'] = array(
	'service_url' => getenv('ITOP_INTERCOM_SERVICE_URL') ?: '',
	'shared_key' => getenv('ITOP_INTERCOM_SHARED_KEY') ?: '',
	'budget_seconds' => getenv('ITOP_INTERCOM_BUDGET_SECONDS') ?: '',
);
// The PHP session holds the module's cache, as in iTop.
session_start();
Session::$aValues = &$_SESSION;

$sPortal = $_GET['portal'] ?? 'itop-portal';
$fStart = microtime(true);
if ($sPortal === 'backoffice') {
	$sScript = (new BackofficeScript())->GetScript();
} else {
	$sScript = (string) (new PortalScript())->GetJSInline(new Container(array('combodo.portal.instance.id' => $sPortal)));
}
$fElapsed = microtime(true) - $fStart;
header('X-Module-Seconds: '.sprintf('%.5f', $fElapsed));
header('X-Module-Warnings: '.count(IssueLog::$aWarnings));
?><!doctype html>
<html>
<head>
<title>iTop stand-in</title>
<?php if ($sScript !== '') { ?><script type="text/javascript"><?php echo $sScript; ?></script><?php } ?>
</head>
<body>
<p id="content">iTop page</p>
<a id="logoff" href="/pages/logoff.php">Log off</a>
<script>
document.getElementById('logoff').addEventListener('click', function (ev) { ev.preventDefault(); window.__loggedOff = true; });
</script>
</body>
</html>
