class RestApiOAuthFlows:
    password: RestApiOAuthFlow | None = None

if creds == "s3AccessKeyIDName":
    pass
