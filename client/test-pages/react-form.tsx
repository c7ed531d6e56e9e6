// A small React form for the browser tests: its state only changes through React's
// own onChange, so the test shows the agent's typing reaches framework-controlled
// inputs (value set through the native setter plus an input event).
import { useState } from "react";
import { createRoot } from "react-dom/client";

function ProfileForm() {
  const [name, setName] = useState("");
  const [country, setCountry] = useState("fr");
  return (
    <form onSubmit={(event) => event.preventDefault()}>
      <label htmlFor="react-name">Display name</label>
      <input id="react-name" value={name} onChange={(event) => setName(event.target.value.toUpperCase())} />
      <label htmlFor="react-country">Country</label>
      <select id="react-country" value={country} onChange={(event) => setCountry(event.target.value)}>
        <option value="fr">France</option>
        <option value="de">Germany</option>
      </select>
      <p id="react-state">
        React state: {name || "(empty)"} / {country}
      </p>
    </form>
  );
}

const root = document.getElementById("react-root");
if (root) createRoot(root).render(<ProfileForm />);
