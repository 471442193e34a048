"""Media handling shared by the media signal types: sniffing, safe decoding, limits."""
