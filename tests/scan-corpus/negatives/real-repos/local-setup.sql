-- Local development stack: the keys below are the fixed ones the Supabase CLI prints.
CREATE OR REPLACE FUNCTION private.call_edge(path TEXT) RETURNS void AS $$
DECLARE
  service_role_key TEXT := 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.Kx9mZ2a7rT3qLpW8vN4bYc1dE6fG0hJ5kS2uV7wX9yA';
BEGIN
  PERFORM net.http_post(url := 'http://127.0.0.1:54321/functions/v1/' || path);
END;
$$ LANGUAGE plpgsql;
