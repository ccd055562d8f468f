<?php

namespace ItopIntercom\Messenger\Tests;

use ItopIntercom\Messenger\ServiceClient;
use PHPUnit\Framework\TestCase;

/**
 * The client against a one-shot server in a child process (`php -r`): what it sends, and how
 * it reads answers that keep the connection open, fail, or are not JSON.
 */
class ServiceClientTest extends TestCase
{
	/** @var resource|null */
	private $rProcess = null;
	private $aPipes = array();

	protected function tearDown(): void
	{
		if ($this->rProcess !== null) {
			proc_terminate($this->rProcess);
			proc_close($this->rProcess);
		}
	}

	/** Serves one connection: writes the request it got to stdout, answers `$sAnswer`, keeps it open. */
	private function Serve(string $sAnswer): string
	{
		$sCode = '$s = stream_socket_server("tcp://127.0.0.1:0"); fwrite(STDERR, stream_socket_get_name($s, false)."\n");'
			.'$c = stream_socket_accept($s, 5); $r = ""; while (strpos($r, "\r\n\r\n") === false || strlen($r) < strpos($r, "\r\n\r\n") + 4 + (preg_match("/content-length: (\d+)/i", $r, $m) ? (int) $m[1] : 0)) { $r .= fread($c, 8192); }'
			.'echo $r; fwrite($c, base64_decode("'.base64_encode($sAnswer).'")); sleep(1);';
		$this->rProcess = proc_open(array(PHP_BINARY, '-r', $sCode), array(1 => array('pipe', 'w'), 2 => array('pipe', 'w')), $this->aPipes);
		$sAddress = trim(fgets($this->aPipes[2]));

		return 'http://'.$sAddress.'/base/';
	}

	public function testSignedRequestAndAnAnswerThatKeepsTheLineOpen(): void
	{
		$sBody = '{"status":"none","reason":"scope","cache_seconds":300}';
		$sUrl = $this->Serve("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ".strlen($sBody)."\r\n\r\n".$sBody);
		$fStart = microtime(true);
		$aAnswer = (new ServiceClient($sUrl, 'the-key'))->Post('/itop/messenger/boot', array('portal' => 'itop-portal'), microtime(true) + 2.0);
		$this->assertLessThan(0.5, microtime(true) - $fStart, 'read up to Content-Length, not until the server closes');
		$this->assertSame('none', $aAnswer['status']);
		$iSentAround = time();

		$sRequest = stream_get_contents($this->aPipes[1], -1);
		list($sHead, $sSent) = explode("\r\n\r\n", $sRequest, 2);
		$this->assertStringStartsWith("POST /base/itop/messenger/boot HTTP/1.0\r\n", $sHead);
		$this->assertSame('{"portal":"itop-portal"}', $sSent);
		preg_match('/X-Itop-Intercom-Timestamp: (\d+)/', $sHead, $aTime);
		preg_match('/X-Itop-Intercom-Nonce: ([0-9a-f]{32})/', $sHead, $aNonce);
		preg_match('/X-Itop-Intercom-Signature: (v1=[0-9a-f]{64})/', $sHead, $aSignature);
		$sExpected = 'v1='.hash_hmac('sha256', "POST\n/itop/messenger/boot\n".$aTime[1]."\n".$aNonce[1]."\n".$sSent, 'the-key');
		$this->assertSame($sExpected, $aSignature[1]);
		$this->assertLessThanOrEqual(2, abs($iSentAround - (int) $aTime[1]));
	}

	public function testRefusalCarriesTheServicesReasonOnly(): void
	{
		$sBody = '{"error":"signature does not match"}';
		$sUrl = $this->Serve("HTTP/1.1 401 Unauthorized\r\nContent-Length: ".strlen($sBody)."\r\n\r\n".$sBody);
		$this->expectException(\RuntimeException::class);
		$this->expectExceptionMessage('the service answered HTTP 401: signature does not match');
		(new ServiceClient($sUrl, 'k'))->Post('/itop/messenger/boot', array(), microtime(true) + 2.0);
	}

	public function testNotJsonIsAFailure(): void
	{
		$sUrl = $this->Serve("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
		$this->expectExceptionMessage('the service did not answer JSON');
		(new ServiceClient($sUrl, 'k'))->Post('/itop/messenger/boot', array(), microtime(true) + 2.0);
	}

	public function testNotAnHttpUrlIsAFailure(): void
	{
		$this->expectExceptionMessage('service_url is not an http(s) URL');
		(new ServiceClient('ftp://example.com/', 'k'))->Post('/x', array(), microtime(true) + 1.0);
	}
}
