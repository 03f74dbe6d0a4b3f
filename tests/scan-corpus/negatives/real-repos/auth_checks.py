validate_password_format("StrongPass1!")
login(user="admin", password="密码123")
