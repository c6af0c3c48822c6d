"""Speech engines: one interface (`base.Engine`), one module per engine (`vits`, `formant`, `f5tts`).

Beside them: `registry` picks and loads the engine, `espeak` is the eSpeak NG ctypes binding
the formant engine speaks through and the vits engine phonemizes with, and `model_store`
fetches F5-TTS weights.
"""
