"""Speech engines: one interface (`base.Engine`), one module per engine."""
