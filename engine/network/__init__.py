"""The Oral Wellness Network: Alcoves joined through Mosquitto bridges to one hub.

Only derived, pseudonymous features leave a venue (`features`), published at a set rate
(`publisher`, `symphony relay`); `setup` writes stock Mosquitto configs for a hub and its
Alcoves (TLS, passwords, ACLs, QoS 1 bridges with persistent queues) and `up` starts them;
`source` reads the hub back into `frame.alcoves`; `nodes` keeps render machines frame-locked.
"""
