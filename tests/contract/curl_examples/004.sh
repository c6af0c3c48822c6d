# Specification 004 (Loqui AI Voice Clone Studio - API Documentation), section "Testing with
# cURL": its curl examples exactly as the document prints them (the document's text lost its
# code fences, leaving "bash" glued to the first word of each block: that word is not part of
# the commands). "## " names an example after the document's heading or comment; the contract
# tests run each one (tests/contract/test_curl_examples.py).

## Register & Login: Register
curl -X POST http://localhost:8000/api/auth/register \
  -H "Content-Type: application/json" \
  -d '{"username":"test","email":"test@test.com","password":"test123"}'

## Register & Login: Login
curl -X POST http://localhost:8000/api/auth/login \
  -d "username=test&password=test123"

## Upload Sample
curl -X POST http://localhost:8000/api/samples/upload \
  -H "Authorization: Bearer YOUR_TOKEN" \
  -F "sample_name=Test Sample" \
  -F "upload_type=uploaded" \
  -F "file=@audio.wav"

## Create Generation
curl -X POST http://localhost:8000/api/generation/create \
  -H "Authorization: Bearer YOUR_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"sample_id":1,"model_name":"Test Voice","script_text":"Hello world"}'
