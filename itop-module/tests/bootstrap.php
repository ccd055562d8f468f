<?php
// Loads the stand-ins for iTop's classes, then the module exactly as iTop includes it.
require_once __DIR__.'/standins/itop.php';
require_once __DIR__.'/../itop-intercom-messenger/main.itop-intercom-messenger.php';
require_once __DIR__.'/FakeService.php';
