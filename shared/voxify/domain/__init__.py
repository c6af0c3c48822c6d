"""Domain models: plain pydantic types shared by the API, the functions and the worker."""
