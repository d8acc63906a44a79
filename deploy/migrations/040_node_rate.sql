-- A node's own request rate (docs/configuration.md, limits.node_requests_per_s):
-- NULL takes the gateway's configured rate, 0 lifts the limit (a peer
-- gateway carrying a whole country's requests, a national contact point),
-- N allows N requests per second.  Set with `fhirgw node-add --rate N`; read
-- with the node on each connection's first request.
alter table gw.node add column requests_per_s integer
	check (requests_per_s is null or requests_per_s between 0 and 1000000);
