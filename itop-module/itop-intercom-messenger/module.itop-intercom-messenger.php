<?php
/**
 * itop-intercom-messenger: puts the Intercom Messenger into iTop's pages for the users that the
 * itop-intercom service admits, booted with their verified identity.
 *
 * Its only settings (in iTop's configuration file, module settings of this module):
 *   'service_url' => the itop-intercom service's URL as iTop reaches it, e.g. https://itop-intercom.example.com/
 *   'shared_key'  => the same value as messenger.shared_key in the service's settings
 * Everything else (workspaces, scopes, portals, profiles, secrets) lives in the service.
 */

SetupWebPage::AddModule(
	__FILE__,
	'itop-intercom-messenger/1.0.0',
	array(
		'label' => 'Intercom Messenger for iTop (itop-intercom)',
		'category' => 'business',
		'dependencies' => array(),
		'mandatory' => false,
		'visible' => true,
		'datamodel' => array(
			'main.itop-intercom-messenger.php',
		),
		'webservice' => array(),
		'data.struct' => array(),
		'data.sample' => array(),
		'doc.manual_setup' => '',
		'doc.more_information' => '',
		'settings' => array(
			'service_url' => '',
			'shared_key' => '',
		),
	)
);
