"""Cluster mode in the browser: the customer's page and the agent's console on
different nodes, and the page carrying on through another node when its own dies."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from cobrowse.demo.website import create_site_app
from tests.cluster import cluster
from tests.e2e.helpers import join_and_see, mirror, open_site, sign_in_at, start_with_widget
from tests.support import free_port, plain_server

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Cluster page</title>
<script src="{script}" data-servers="{servers}" defer></script></head>
<body>
  <h1>Cluster page</h1>
  <p id="count">Count: 0</p>
  <button type="button" id="add">Add</button>
  <script>
    let count = 0;
    document.getElementById("add").addEventListener("click", () => {{
      count += 1;
      document.getElementById("count").textContent = "Count: " + count;
    }});
  </script>
</body>
</html>
"""


def test_the_page_goes_on_through_another_node_when_its_node_dies(
    browser: Browser, tmp_path: Path
) -> None:
    with cluster(tmp_path, customer_grace_seconds="30") as running:
        node_a, node_b = running.nodes
        site_dir = tmp_path / "site"
        site_dir.mkdir()
        (site_dir / "index.html").write_text(
            PAGE.format(script=f"{node_a.url}/cobrowse.js", servers=f"{node_a.url} {node_b.url}")
        )
        site_port = free_port()
        site = plain_server(create_site_app(node_a.url, site_dir), site_port)
        site.start()
        try:
            site_url = f"http://localhost:{site_port}"
            running.cobrowse("sites", "add", "clustered", "--origin", site_url)
            username = running.add_agent("cluster-e2e-agent")

            agent = browser.new_page()
            sign_in_at(agent, node_b.url, username)
            customer = browser.new_page()
            open_site(customer, f"{site_url}/index.html")
            session_id = start_with_widget(customer)
            join_and_see(agent, session_id, "Cluster page")

            node_a.kill()
            customer.get_by_role("button", name="Add").click()
            expect(mirror(agent).get_by_text("Count: 1")).to_be_visible(timeout=15_000)
            session = customer.evaluate("() => window.Cobrowse.session")
            assert session["id"] == session_id
            assert session["state"] == "active"
            agent.close()
            customer.close()
        finally:
            site.stop()
