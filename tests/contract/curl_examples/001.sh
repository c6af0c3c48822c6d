# Specification 001 (Voxify RESTful API Architecture Documentation), section "User Story
# Examples: Complete User Workflow": its curl examples exactly as the document prints them.
# "## " names an example after the document's step; the contract tests run each one
# (tests/contract/test_curl_examples.py).

## 1. User Registration
curl -X POST http://localhost:8080/api/v1/auth/register \
  -H "Content-Type: application/json" \
  -d '{"email": "user@example.com", "password": "SecurePass123!", "first_name": "John", "last_name": "Doe"}'

## 2. User Login
curl -X POST http://localhost:8080/api/v1/auth/login \
  -H "Content-Type: application/json" \
  -d '{"email": "user@example.com", "password": "SecurePass123!"}'

## 3. Upload Voice Sample
curl -X POST http://localhost:8080/api/v1/voice/samples \
  -H "Authorization: Bearer <access_token>" \
  -F "file=@voice_sample.wav" \
  -F "name=My Voice Sample" \
  -F "description=High quality recording" \
  -F "language=en-US"

## 4. Train Voice Clone
curl -X POST http://localhost:8080/api/v1/voice/samples/vs_1234567890/train \
  -H "Authorization: Bearer <access_token>" \
  -H "Content-Type: application/json" \
  -d '{"config": {"epochs": 100, "enable_timestamp_alignment": true}}'

## 5. List Cloned Voices
curl -X GET "http://localhost:8080/api/v1/voice/samples?status=ready" \
  -H "Authorization: Bearer <access_token>"

## 6. Text-to-Speech with Timestamps
curl -X POST http://localhost:8080/api/v1/tts/synthesize \
  -H "Authorization: Bearer <access_token>" \
  -H "Content-Type: application/json" \
  -d '{
    "text": "Hello world, this is my cloned voice!",
    "voice_id": "vs_1234567890",
    "config": {
      "output_format": "wav",
      "include_timestamps": true,
      "timestamp_granularity": "both"
    }
  }'
