"""Speaker embeddings: who is speaking, as numbers, and the index that searches them.

`encoder` turns audio into a 256-d speaker vector (resemblyzer's GE2E encoder) and compares
vectors; `index` stores one vector per sample or clone in LanceDB and answers nearest-voice
queries. The work in `voxify_worker.work` uses both (samples, clones and the impersonation
guard, similar-voice searches, a job's `speaker_similarity`).
"""
