"""The worker's runtime: how work reaches the worker and how the process stays healthy.

`consumer` long-polls the SQS work queues and settles each message (delete, retry with
backoff, hand back on stop); `lease` keeps a long job's message invisible and its claim alive;
`heartbeat` writes the worker's liveness record that the API's `voice/info` reads; `sweeper`
re-queues jobs that lost their worker or their message; `wiring` builds the handler for each
kind of work from the repositories, store and models. Nothing here knows how speech, samples
or voices are made: that is `voxify_worker.work`.
"""
