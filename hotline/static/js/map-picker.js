// The optional map point on the appeal form. Shown only when the city configured its own tile server
// (MAP_TILE_URL); clicking the map fills the latitude/longitude fields, typing them moves the marker.
(function () {
  var box = document.getElementById("map");
  if (!box || typeof L === "undefined") { return; }
  var lat = document.getElementById("lat"), lon = document.getElementById("lon");
  var start = [parseFloat(box.dataset.lat) || 30.59, parseFloat(box.dataset.lon) || 114.30];
  var map = L.map(box).setView(start, 12);
  map.attributionControl.setPrefix(false);  // no link out of the intranet
  L.tileLayer(box.dataset.tiles, {maxZoom: 19, attribution: box.dataset.attribution || ""}).addTo(map);
  var marker = null;
  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
  }
  if (lat.value && lon.value) { place([parseFloat(lat.value), parseFloat(lon.value)]); }
  map.on("click", function (event) {
    place(event.latlng);
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
  });
  [lat, lon].forEach(function (input) {
    input.addEventListener("change", function () {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      if (!isNaN(a) && !isNaN(b)) { place([a, b]); map.panTo([a, b]); }
    });
  });
  // The <details> box may open after load: let Leaflet measure itself again.
  var details = box.closest("details");
  if (details) { details.addEventListener("toggle", function () { map.invalidateSize(); }); }
})();
