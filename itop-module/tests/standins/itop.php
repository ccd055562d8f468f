<?php
/**
 * Stand-ins for the few iTop classes the module touches, with the same names and signatures, so
 * that the module's own files run unchanged in tests and in the test page. State is static and
 * set by each test (or by the test page from its query string).
 */

namespace Symfony\Component\DependencyInjection {
	class Container
	{
		private $aParameters;

		public function __construct(array $aParameters = array())
		{
			$this->aParameters = $aParameters;
		}

		public function hasParameter($sName)
		{
			return array_key_exists($sName, $this->aParameters);
		}

		public function getParameter($sName)
		{
			return $this->aParameters[$sName];
		}
	}
}

namespace Combodo\iTop\Application\Helper {
	/** iTop's session helper; the stand-in keeps values in memory. */
	class Session
	{
		public static $aValues = array();

		public static function Get($key, $default = null)
		{
			return static::$aValues[$key] ?? $default;
		}

		public static function Set($key, $value)
		{
			static::$aValues[$key] = $value;
		}
	}
}

namespace {
	use Symfony\Component\DependencyInjection\Container;

	interface iBackofficeScriptExtension
	{
		public function GetScript(): string;
	}

	abstract class AbstractPortalUIExtension
	{
		public function GetJSInline(Container $oContainer)
		{
			return null;
		}
	}

	class StandInContact
	{
		public $aValues;

		public function __construct(array $aValues)
		{
			$this->aValues = $aValues;
		}

		public function GetKey()
		{
			return $this->aValues['id'];
		}

		public function GetName()
		{
			return $this->aValues['first_name'].' '.$this->aValues['name'];
		}

		public function Get($sAttCode)
		{
			return $this->aValues[$sAttCode];
		}
	}

	class Person extends StandInContact
	{
	}

	class UserRights
	{
		/** @var array|null id, login, profiles, contact (StandInContact|null), visible (OQL => bool) */
		public static $aUser = null;

		public static function IsLoggedIn()
		{
			return static::$aUser !== null;
		}

		public static function GetUserId($sLogin = '')
		{
			return static::$aUser === null ? null : static::$aUser['id'];
		}

		public static function GetUser()
		{
			return static::$aUser === null ? '' : static::$aUser['login'];
		}

		public static function ListProfiles($oUser = null)
		{
			return static::$aUser === null ? array() : static::$aUser['profiles'];
		}

		public static function GetContactObject()
		{
			return static::$aUser === null ? null : static::$aUser['contact'];
		}
	}

	class MetaModel
	{
		public static $aModuleSettings = array();

		public static function GetModuleSetting($sModule, $sProperty, $defaultvalue = null)
		{
			return static::$aModuleSettings[$sModule][$sProperty] ?? $defaultvalue;
		}

		public static function IsValidAttCode($sClass, $sAttCode)
		{
			return in_array($sAttCode, array('email', 'org_id', 'org_name'), true);
		}
	}

	class OQLException extends Exception
	{
	}

	/** Evaluates nothing: what the logged-in user sees for an OQL is given by the test. */
	class DBObjectSearch
	{
		public static $aEvaluated = array();
		public $sOql;

		public static function FromOQL($sOql)
		{
			if (strpos($sOql, 'SELECT ') !== 0) {
				throw new OQLException('Syntax error near '.substr($sOql, 0, 20));
			}
			$oSearch = new DBObjectSearch();
			$oSearch->sOql = $sOql;

			return $oSearch;
		}
	}

	class DBObjectSet
	{
		private $oSearch;

		public function __construct(DBObjectSearch $oSearch)
		{
			$this->oSearch = $oSearch;
		}

		public function SetLimit($iLimit)
		{
		}

		public function Fetch()
		{
			$sLogin = UserRights::GetUser();
			DBObjectSearch::$aEvaluated[] = array($sLogin, $this->oSearch->sOql);
			$aVisible = UserRights::$aUser['visible'] ?? array();

			return empty($aVisible[$this->oSearch->sOql]) ? null : new stdClass();
		}
	}

	class IssueLog
	{
		public static $aWarnings = array();

		public static function Warning($sMessage, $sChannel = null, $aContext = array())
		{
			static::$aWarnings[] = $sMessage;
		}
	}
}
