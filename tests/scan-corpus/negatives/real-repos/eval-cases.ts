const input = "postgres://admin:s3cr3t_p4ss@db.internal.prod:5432/users_prod";
const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT";
