<?php

namespace ItopIntercom\Messenger;

/**
 * A deliberately tiny HTTP client for the service: one signed POST, JSON in and out, and a hard
 * deadline that covers connecting, the TLS handshake, sending and reading. It uses PHP's stream
 * sockets only (no cURL extension needed) and speaks HTTP/1.0 so that answers are never chunked.
 *
 * Signature: hex HMAC-SHA256 with the shared key over "POST\n<route path>\n<unix time>\n<nonce>\n"
 * followed by the body; the service accepts each nonce once, within a short time window.
 */
class ServiceClient
{
	const MAX_ANSWER_BYTES = 262144;

	/** @var string */
	private $sBaseUrl;
	/** @var string */
	private $sKey;

	public function __construct(string $sBaseUrl, string $sKey)
	{
		$this->sBaseUrl = $sBaseUrl;
		$this->sKey = $sKey;
	}

	/**
	 * @param float $fDeadline microtime(true) after which the call is abandoned
	 * @return array the decoded JSON answer of a 200
	 * @throws \RuntimeException on any failure (network, timeout, HTTP status, bad JSON)
	 */
	public function Post(string $sPath, array $aPayload, float $fDeadline): array
	{
		$aUrl = parse_url($this->sBaseUrl);
		if (!is_array($aUrl) || !isset($aUrl['host']) || !in_array($aUrl['scheme'] ?? '', array('http', 'https'), true)) {
			throw new \RuntimeException('service_url is not an http(s) URL');
		}
		$bTls = $aUrl['scheme'] === 'https';
		$sHost = $aUrl['host'];
		$iPort = isset($aUrl['port']) ? (int) $aUrl['port'] : ($bTls ? 443 : 80);
		$sPrefix = rtrim($aUrl['path'] ?? '', '/');

		$sBody = json_encode($aPayload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
		if ($sBody === false) {
			throw new \RuntimeException('cannot encode the request');
		}
		$sTimestamp = (string) time();
		$sNonce = bin2hex(random_bytes(16));
		$sSignature = 'v1='.hash_hmac('sha256', "POST\n".$sPath."\n".$sTimestamp."\n".$sNonce."\n".$sBody, $this->sKey);
		$sHostHeader = $sHost.(isset($aUrl['port']) ? ':'.$iPort : '');
		$sRequest = 'POST '.$sPrefix.$sPath." HTTP/1.0\r\n"
			.'Host: '.$sHostHeader."\r\n"
			."Content-Type: application/json\r\n"
			."Accept: application/json\r\n"
			."User-Agent: itop-intercom-messenger/1.0\r\n"
			.'X-Itop-Intercom-Timestamp: '.$sTimestamp."\r\n"
			.'X-Itop-Intercom-Nonce: '.$sNonce."\r\n"
			.'X-Itop-Intercom-Signature: '.$sSignature."\r\n"
			.'Content-Length: '.strlen($sBody)."\r\n"
			."Connection: close\r\n\r\n"
			.$sBody;

		$rSocket = $this->Connect($sHost, $iPort, $bTls, $fDeadline);
		try {
			$this->Send($rSocket, $sRequest, $fDeadline);
			$sAnswer = $this->Receive($rSocket, $fDeadline);
		} finally {
			fclose($rSocket);
		}

		return $this->Decode($sAnswer);
	}

	/** @return resource */
	private function Connect(string $sHost, int $iPort, bool $bTls, float $fDeadline)
	{
		$fLeft = $fDeadline - microtime(true);
		if ($fLeft <= 0) {
			throw new \RuntimeException('no time left to call the service');
		}
		$rContext = stream_context_create(array('ssl' => array(
			'verify_peer' => true,
			'verify_peer_name' => true,
			'peer_name' => $sHost,
			'SNI_enabled' => true,
		)));
		$sTarget = 'tcp://'.(strpos($sHost, ':') !== false ? '['.$sHost.']' : $sHost).':'.$iPort;
		$rSocket = @stream_socket_client($sTarget, $iErrno, $sError, $fLeft, STREAM_CLIENT_CONNECT, $rContext);
		if ($rSocket === false) {
			throw new \RuntimeException('cannot connect to the service: '.($sError !== '' ? $sError : 'timeout'));
		}
		stream_set_blocking($rSocket, false);
		if ($bTls) {
			// Non-blocking handshake, so that the deadline also bounds it.
			while (true) {
				$result = @stream_socket_enable_crypto($rSocket, true, STREAM_CRYPTO_METHOD_TLS_CLIENT);
				if ($result === true) {
					break;
				}
				if ($result === false) {
					fclose($rSocket);
					throw new \RuntimeException('TLS handshake with the service failed');
				}
				$this->Wait($rSocket, $fDeadline, true);
			}
		}

		return $rSocket;
	}

	private function Send($rSocket, string $sData, float $fDeadline): void
	{
		while ($sData !== '') {
			$iWritten = @fwrite($rSocket, $sData);
			if ($iWritten === false) {
				throw new \RuntimeException('the service closed the connection');
			}
			$sData = (string) substr($sData, $iWritten);
			if ($sData !== '') {
				$this->Wait($rSocket, $fDeadline, false);
			}
		}
	}

	private function Receive($rSocket, float $fDeadline): string
	{
		$sAnswer = '';
		while (true) {
			$sChunk = @fread($rSocket, 8192);
			if ($sChunk === false) {
				throw new \RuntimeException('reading the answer failed');
			}
			$sAnswer .= $sChunk;
			if (strlen($sAnswer) > static::MAX_ANSWER_BYTES) {
				throw new \RuntimeException('the answer is too large');
			}
			if (feof($rSocket) || static::Complete($sAnswer)) {
				return $sAnswer;
			}
			if ($sChunk === '') {
				$this->Wait($rSocket, $fDeadline, true);
			}
		}
	}

	/** Whether the whole body announced by Content-Length is in (a server may keep the line open). */
	private static function Complete(string $sAnswer): bool
	{
		$iSplit = strpos($sAnswer, "\r\n\r\n");
		if ($iSplit === false || !preg_match('/^content-length:\s*(\d+)\s*$/mi', substr($sAnswer, 0, $iSplit), $aLength)) {
			return false;
		}

		return strlen($sAnswer) - $iSplit - 4 >= (int) $aLength[1];
	}

	private function Wait($rSocket, float $fDeadline, bool $bRead): void
	{
		$fLeft = $fDeadline - microtime(true);
		if ($fLeft <= 0) {
			throw new \RuntimeException('the service did not answer in time');
		}
		$aRead = $bRead ? array($rSocket) : null;
		$aWrite = $bRead ? null : array($rSocket);
		$aExcept = null;
		$iSeconds = (int) floor($fLeft);
		$iMicro = (int) (($fLeft - $iSeconds) * 1000000);
		if (@stream_select($aRead, $aWrite, $aExcept, $iSeconds, $iMicro) === 0) {
			throw new \RuntimeException('the service did not answer in time');
		}
	}

	private function Decode(string $sAnswer): array
	{
		$iSplit = strpos($sAnswer, "\r\n\r\n");
		if ($iSplit === false) {
			throw new \RuntimeException('the answer is not HTTP');
		}
		$sHead = substr($sAnswer, 0, $iSplit);
		$sBody = (string) substr($sAnswer, $iSplit + 4);
		if (!preg_match('#^HTTP/\d(?:\.\d)? (\d{3})#', $sHead, $aStatus)) {
			throw new \RuntimeException('the answer is not HTTP');
		}
		if (preg_match('/^transfer-encoding:\s*chunked/mi', $sHead)) {
			throw new \RuntimeException('chunked answers are not supported');
		}
		$aData = json_decode($sBody, true);
		if ((int) $aStatus[1] !== 200) {
			$sReason = is_array($aData) && isset($aData['error']) && is_string($aData['error']) ? ': '.substr($aData['error'], 0, 200) : '';
			throw new \RuntimeException('the service answered HTTP '.$aStatus[1].$sReason);
		}
		if (!is_array($aData)) {
			throw new \RuntimeException('the service did not answer JSON');
		}

		return $aData;
	}
}
