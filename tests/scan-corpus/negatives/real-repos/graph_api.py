"""The graph API: every route gets the database credentials from a FastAPI dependency."""
from fastapi import Depends, FastAPI

app = FastAPI()


@app.post("/extract")
async def extract(
    file_name: str,
    credentials: Neo4jCredentials = Depends(get_neo4j_credentials),
):
    return await run_extraction(file_name, credentials)
