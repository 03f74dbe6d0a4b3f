FROM python:3.12-slim
ARG APP_UID=1000
RUN (getent passwd "$APP_UID" && userdel -f "$(getent passwd "$APP_UID" | cut -d: -f1)") || true
# To set a password instead of a token:
#    echo 'c.ServerApp.password = u"sha1:100c3a97bbf7:8586b72223d77b17d16256a9835b2a6e4a0501ec"' >> /root/.jupyter/jupyter_server_config.py
