"""Remove torchaudio's compiled libraries so it imports as pure Python.

Every x86_64 torchaudio wheel on PyPI (2.8-2.11) links CUDA libraries and fails to import
beside a CPU torch. Without its `lib/*.so` files torchaudio falls back to pure Python, which
is all F5-TTS uses (MelSpectrogram, resample); audio files are read with soundfile instead
of torchaudio.load. Run after any install that (re)installs torchaudio.
"""

import importlib.util
from pathlib import Path


def main() -> None:
    spec = importlib.util.find_spec("torchaudio")
    if spec is None or spec.origin is None:
        raise SystemExit("torchaudio is not installed")
    removed = list((Path(spec.origin).parent / "lib").glob("*.so"))
    for library in removed:
        library.unlink()
    print(f"torchaudio: removed {len(removed)} compiled libraries")


if __name__ == "__main__":
    main()
