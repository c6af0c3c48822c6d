# Specification 000 (Voxify RESTful API Documentation), section "API Examples": its curl
# examples exactly as the document prints them. "## " names an example after the heading or
# comment the document gives it; the contract tests run each one (tests/contract/test_curl_examples.py).

## User Registration and Authentication: Register new user
curl -X POST http://localhost:8000/api/v1/auth/register \
  -H "Content-Type: application/json" \
  -d '{
    "email": "user@example.com",
    "password": "SecurePass123!",
    "first_name": "John",
    "last_name": "Doe"
  }'

## User Registration and Authentication: Login
curl -X POST http://localhost:8000/api/v1/auth/login \
  -H "Content-Type: application/json" \
  -d '{
    "email": "user@example.com",
    "password": "SecurePass123!"
  }'

## Voice Sample Upload and Clone Creation: Upload voice sample
curl -X POST http://localhost:8000/api/v1/voice/samples \
  -H "Authorization: Bearer <access_token>" \
  -F "file=@voice_sample.wav" \
  -F "name=My Voice Sample"

## Voice Sample Upload and Clone Creation: Create voice clone
curl -X POST http://localhost:8000/api/v1/voice/clones \
  -H "Authorization: Bearer <access_token>" \
  -H "Content-Type: application/json" \
  -d '{
    "sample_ids": ["sample_123"],
    "name": "My Voice Clone",
    "ref_text": "Hello, this is my reference text for voice cloning.",
    "language": "en-US"
  }'

## Synthesis Job Creation and Monitoring: Create synthesis job
curl -X POST http://localhost:8000/api/v1/job \
  -H "Authorization: Bearer <access_token>" \
  -H "Content-Type: application/json" \
  -d '{
    "text_content": "Hello world, this is a test synthesis.",
    "voice_model_id": "clone_456",
    "text_language": "en-US",
    "output_format": "wav",
    "sample_rate": 22050,
    "speed": 1.0,
    "pitch": 1.0,
    "volume": 1.0
  }'

## Synthesis Job Creation and Monitoring: Monitor job progress (SSE stream)
curl -X GET "http://localhost:8000/api/v1/job/job_123/progress" \
  -H "Authorization: Bearer <access_token>" \
  -H "Accept: text/event-stream"

## Synthesis Job Creation and Monitoring: Download result
curl -X GET "http://localhost:8000/api/v1/file/synthesis/job_123" \
  -H "Authorization: Bearer <access_token>" \
  -o result.wav
