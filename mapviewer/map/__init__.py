"""The map: the folium/Leaflet page, the web view that shows it, and what it draws."""
