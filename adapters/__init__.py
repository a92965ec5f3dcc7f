"""Protocol adapters: on-chain state -> normalised position arrays; decisions -> encoded vault actions."""
