// Call the function on the local Supabase stack (`supabase start` prints these keys).
const command = `curl -L -X POST 'https://project-ref.supabase.co/functions/v1/agent' -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.eDqFj1ZKnb8EXW-_srXpBKG7m85VKqF6b9Rw9NSp6lp' --data '{"name":"Functions"}'`;

export function Form({ hideFields }: { hideFields?: string[] }) {
  const requirePasswordCurrent = !hideFields
    || !hideFields.includes("password_current");
  return requirePasswordCurrent;
}
