"""Monte Carlo of the vault's book under the keeper's own policy, on Dask (issue 16; ``keeper risk montecarlo``)."""
