<?php

namespace ItopIntercom\Messenger;

/**
 * The JavaScript put into iTop's pages. Every value comes from json_encode with the HEX flags,
 * so that no value can close the <script> element or break out of a string: a person named
 * "</script><script>alert(1)</script>" stays text.
 *
 * Logout: the browser keeps an opaque marker of who booted the Messenger (localStorage). When
 * the next page is another user's (or a user without the Messenger), Intercom's cookies for the
 * workspace are cleared before anything loads, which is what Intercom('shutdown') does; clicking
 * iTop's log-off link (pages/logoff.php) shuts the Messenger down at once.
 */
class Snippet
{
	const JSON_FLAGS = JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_UNESCAPED_SLASHES;
	const STORAGE_KEY = 'itop_intercom_messenger';

	/** The snippet that boots the Messenger with the service's answer. */
	public static function Boot(array $aAnswer): string
	{
		$aConfig = array(
			'settings' => $aAnswer['settings'],
			'widget' => (string) $aAnswer['widget_url'],
			'marker' => (string) $aAnswer['marker'],
			'app' => (string) $aAnswer['settings']['app_id'],
		);
		$sConfig = json_encode($aConfig, static::JSON_FLAGS);
		if ($sConfig === false) {
			return '';
		}

		return static::Runtime()
			."(function (w, d, c) {\n"
			."  var prev = itopIntercomPrevious(w);\n"
			."  if (prev && prev.m !== c.marker) { itopIntercomForget(w, d, prev.a); }\n"
			."  w.intercomSettings = c.settings;\n"
			."  try { w.localStorage.setItem(".static::Key().", JSON.stringify({m: c.marker, a: c.app})); } catch (e) {}\n"
			."  if (typeof w.Intercom !== 'function') {\n"
			."    var i = function () { i.c(arguments); }; i.q = []; i.c = function (a) { i.q.push(a); };\n"
			."    w.Intercom = i;\n"
			."    var s = d.createElement('script'); s.async = true; s.src = c.widget;\n"
			."    (d.head || d.documentElement).appendChild(s);\n"
			."  } else { w.Intercom('update', c.settings); }\n"
			."  d.addEventListener('click', function (ev) {\n"
			."    var a = ev.target && ev.target.closest ? ev.target.closest('a[href*=\"logoff.php\"]') : null;\n"
			."    if (a) { w.Intercom('shutdown'); itopIntercomForget(w, d, c.app); }\n"
			."  }, true);\n"
			."})(window, document, ".$sConfig.");\n";
	}

	/** For a logged-in user without the Messenger: forget a previous user's Messenger session. */
	public static function Forget(): string
	{
		return static::Runtime()
			."(function (w, d) { var prev = itopIntercomPrevious(w); if (prev) { itopIntercomForget(w, d, prev.a); } })(window, document);\n";
	}

	private static function Key(): string
	{
		return (string) json_encode(static::STORAGE_KEY, static::JSON_FLAGS);
	}

	private static function Runtime(): string
	{
		return "function itopIntercomPrevious(w) {\n"
			."  try { var v = JSON.parse(w.localStorage.getItem(".static::Key().") || 'null'); return v && typeof v.a === 'string' ? v : null; } catch (e) { return null; }\n"
			."}\n"
			."function itopIntercomForget(w, d, app) {\n"
			."  try { w.localStorage.removeItem(".static::Key()."); } catch (e) {}\n"
			."  if (!/^[A-Za-z0-9_-]+$/.test(app)) { return; }\n"
			."  var parts = w.location.hostname.split('.'), domains = [''];\n"
			."  for (var k = 0; k < parts.length - 1; k++) { domains.push('; domain=.' + parts.slice(k).join('.')); }\n"
			."  ['intercom-session-', 'intercom-id-', 'intercom-device-id-'].forEach(function (name) {\n"
			."    domains.forEach(function (dom) { d.cookie = name + app + '=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/' + dom; });\n"
			."  });\n"
			."}\n";
	}
}
