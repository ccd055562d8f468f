<?php

namespace ItopIntercom\Messenger\Tests;

/** A ServiceClient stand-in: records each call and answers from a queue. */
class FakeService
{
	public $aCalls = array();
	public $aAnswers;

	public function __construct(array $aAnswers)
	{
		$this->aAnswers = $aAnswers;
	}

	public function Post(string $sPath, array $aPayload, float $fDeadline): array
	{
		$this->aCalls[] = array('path' => $sPath, 'payload' => json_decode(json_encode($aPayload), true));
		if (!$this->aAnswers) {
			throw new \RuntimeException('no more answers');
		}

		return array_shift($this->aAnswers);
	}
}
