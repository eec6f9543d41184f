// Filled in by the trace work: PacketFilter (libpcap).
