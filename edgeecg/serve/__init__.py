"""`edgeecg serve`: the edge box's HTTP service and the phone page it serves.

Why FastAPI on uvicorn: a maintained ASGI stack that is small to install (the `serve` extra), async, so that
one slow photo waits in a worker process while the service answers everyone else, and typed routes that keep
the code short. The model runs in a pool of processes (one torch-free runtime each, loaded once); the service
itself only parses, bounds and routes requests.
"""
