"""The worker's work: one handler per kind of work message, and what those handlers share.

`synthesis` renders a job to audio (with `references`, the decoded reference voices, and
`timestamps`, the word and syllable times); `samples` turns an upload into a usable voice
sample or rejects it; `clones` embeds a new voice clone and runs the impersonation guard;
`searches` answers similar-voice searches; `forget` drops a deleted voice from the index;
`voice_context` holds what the voice work shares (repositories, speaker encoder, voice index)
and the embeddings of stored samples and clones. The engines that speak are in
`voxify_worker.engines`, the audio pipeline in `voxify_worker.audio`, the speaker encoder and
the voice index in `voxify_worker.embeddings`; how messages arrive is `voxify_worker.runtime`.
"""
