// The sample shop's own behaviour: a cart kept in localStorage, a rotating offer,
// and a checkout form that only pretends to place the order.
(function () {
  "use strict";
  var offers = [
    "Free shipping on orders over $75",
    "Members save 10% on jackets this week",
    "New: Switchback poles in midnight blue",
  ];
  function cart() {
    try { return JSON.parse(localStorage.getItem("trailhead-cart") || "[]"); } catch (e) { return []; }
  }
  function save(items) { localStorage.setItem("trailhead-cart", JSON.stringify(items)); }
  function render() {
    var items = cart();
    var count = document.getElementById("cart-count");
    if (count) count.textContent = String(items.length);
    var list = document.getElementById("cart-items");
    if (list) {
      list.innerHTML = "";
      if (!items.length) {
        var empty = document.createElement("li");
        empty.className = "empty";
        empty.textContent = "Nothing here yet.";
        list.appendChild(empty);
      }
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item.name + " — $" + item.price.toFixed(2);
        list.appendChild(li);
      });
    }
    var total = document.getElementById("order-total");
    if (total) {
      var sum = items.reduce(function (s, i) { return s + i.price; }, 0);
      var wrap = document.getElementById("quantity");
      if (wrap && wrap.selectedIndex === 1) sum += 5;
      total.textContent = "$" + sum.toFixed(2);
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.add");
    if (!button) return;
    var items = cart();
    items.push({ name: button.dataset.name, price: Number(button.dataset.price) });
    save(items);
    render();
  });
  var wrap = document.getElementById("quantity");
  if (wrap) wrap.addEventListener("change", render);
  var form = document.getElementById("checkout-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = document.getElementById("full-name").value;
      document.getElementById("form-result").textContent =
        "Thank you, " + name + "! Your order is placed (not really: this is a demo).";
      save([]);
      render();
    });
  }
  var offer = document.getElementById("offer");
  if (offer) {
    var i = 0;
    setInterval(function () { i = (i + 1) % offers.length; offer.textContent = offers[i]; }, 4000);
  }
  render();
})();
