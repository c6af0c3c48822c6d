# Specification 002 (Voice Cloning API), section "Example Usage": its curl examples exactly as
# the document prints them. "## " names an example after the document's heading; the contract
# tests run each one (tests/contract/test_curl_examples.py).

## Upload a voice sample
curl -X POST "http://localhost:8000/voices" \
  -F "file=@sample.wav" \
  -F "name=My Voice" \
  -F "description=Test voice"

## Synthesize speech
curl -X POST "http://localhost:8000/voices/{voice_id}/synthesize" \
  -H "Content-Type: application/json" \
  -d '{"text": "Hello world", "format": "wav"}' \
  --output output.wav

## Get voice metadata
curl "http://localhost:8000/voices/{voice_id}"
