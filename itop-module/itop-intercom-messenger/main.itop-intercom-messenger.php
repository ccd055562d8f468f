<?php
/**
 * The two page hooks iTop offers for scripts: the back office (iBackofficeScriptExtension) and
 * the portals (AbstractPortalUIExtension::GetJSInline). Both ask the same question of the
 * service and return either the Messenger's snippet or nothing; neither can throw.
 */

namespace ItopIntercom\Messenger;

require_once __DIR__.'/src/Environment.php';
require_once __DIR__.'/src/ItopEnvironment.php';
require_once __DIR__.'/src/ServiceClient.php';
require_once __DIR__.'/src/Snippet.php';
require_once __DIR__.'/src/Messenger.php';

use Symfony\Component\DependencyInjection\Container;

class BackofficeScript implements \iBackofficeScriptExtension
{
	public function GetScript(): string
	{
		return Messenger::ForItop()->Script('backoffice');
	}
}

class PortalScript extends \AbstractPortalUIExtension
{
	public function GetJSInline(Container $oContainer)
	{
		return Messenger::ForItop()->Script(static::PortalId($oContainer));
	}

	/** The portal's id as iTop's portal bootstrap defines it (e.g. `itop-portal`). */
	public static function PortalId($oContainer): string
	{
		try {
			if ($oContainer !== null && $oContainer->hasParameter('combodo.portal.instance.id')) {
				return (string) $oContainer->getParameter('combodo.portal.instance.id');
			}
		} catch (\Throwable $e) {
			// Fall back to what the portal's bootstrap sets.
		}
		if (!empty($_ENV['PORTAL_ID'])) {
			return (string) $_ENV['PORTAL_ID'];
		}
		return defined('PORTAL_ID') ? (string) constant('PORTAL_ID') : '';
	}
}
