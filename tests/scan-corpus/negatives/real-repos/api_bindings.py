class v1LoginRequest:
    def __init__(
        self,
        *,
        username: str,
        password: "typing.Optional[str]" = None,
        isHashed: "typing.Optional[bool]" = None,
    ):
        self.username = username
        self.password = password
