package util

func checkTrackingEnv(t *testing.T, env []corev1.EnvVar) {
	assert.Equal(t, "MLFLOW_TRACKING_TOKEN", env[0].Name)
	assert.Equal(t, "MLFLOW_TRACKING_PASSWORD", env[1].Name)
}
