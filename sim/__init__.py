"""Simulation: the demo (scenario replay on the devnet, hedged vs unhedged), scenarios and the HTML report."""
