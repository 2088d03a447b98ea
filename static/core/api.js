// The page's one way to talk to the server: JSON over POST, errors as exceptions with the
// server's one-line message (and, for refused answers, its `refused` list).

export async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { /* empty body */ }
  if (!response.ok) {
    const error = new Error(data.error || `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.refused = data.refused || null;
    throw error;
  }
  return data;
}
