"""Leader lease with a fencing token, in the shared PostgreSQL store.

One row per vault in ``leases``: holder, token, expiry on the *server's* clock. ``renew()`` takes the lease when
it is free or expired (the token goes up by one: a new term) or extends it when this replica already holds it
(same token). A follower calls ``renew()`` every block and acts only once it wins.

The token fences the store: :meth:`check` runs inside the transaction that records a plan or a transaction
version (before the broadcast) and refuses unless this replica still holds the lease with the same token and
at least ``margin_s`` left. Locally, the replica also stops acting ``margin_s`` before the expiry it last
secured, measured on its own monotonic clock from *before* the renewal was sent, so a replica cut off from the
database stops sending while its lease is still valid on the server and the follower cannot yet take over.

What fencing cannot cover: a pause of more than ``margin_s`` between recording a transaction and the node
receiving it. The window is closed on chain: replicas sign with the same keeper key, so a late broadcast
competes for the nonce the new leader reconciles (it waits for or cancels every recorded version) and the plan
hash stays unique in the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keeper.store.postgres import PostgresStore, redact
from keeper.store.sqlite import StoreError

_RENEW = sa.text(
    """
    INSERT INTO leases (name, holder, token, expires_at, acquired_at)
    VALUES (:name, :holder, 1, clock_timestamp() + make_interval(secs => :ttl), clock_timestamp())
    ON CONFLICT (name) DO UPDATE SET
        token = CASE WHEN leases.holder = EXCLUDED.holder AND leases.expires_at > clock_timestamp()
                     THEN leases.token ELSE leases.token + 1 END,
        acquired_at = CASE WHEN leases.holder = EXCLUDED.holder AND leases.expires_at > clock_timestamp()
                     THEN leases.acquired_at ELSE clock_timestamp() END,
        holder = EXCLUDED.holder,
        expires_at = EXCLUDED.expires_at
    WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= clock_timestamp()
    RETURNING token
    """
)
_EXTEND = sa.text(
    "UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => :ttl) "
    "WHERE name = :name AND holder = :holder AND token = :token AND expires_at > clock_timestamp() RETURNING token"
)
_CHECK = sa.text(
    "SELECT token FROM leases WHERE name = :name AND holder = :holder AND token = :token "
    "AND expires_at > clock_timestamp() + make_interval(secs => :margin) FOR SHARE"
)


class LeaseLostError(StoreError):
    """Raised when a write needs the leader lease and this replica does not hold it (or cannot prove it)."""


class Lease:
    """This replica's claim on one vault (``name``). ``renew`` belongs to the runner's thread; ``extend`` (the
    heartbeat during a long tick) may run in another thread: the two are serialised."""

    def __init__(
        self,
        store: PostgresStore,
        name: str,
        holder: str,
        *,
        ttl_s: float = 15.0,
        margin_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < margin_s < ttl_s:
            raise StoreError(f"lease: need 0 < margin_s ({margin_s}) < ttl_s ({ttl_s}); raise fleet lease_ttl_s")
        self.store, self.name, self.holder = store, name, holder
        self.ttl_s, self.margin_s = ttl_s, margin_s
        self._clock = clock
        self.token: int | None = None
        self._valid_until = float("-inf")  # local monotonic time until which we may act
        self.terms = 0  # how many times this replica became leader
        self._lock = threading.Lock()
        store.lease = self

    @property
    def held(self) -> bool:
        return self.token is not None and self._clock() < self._valid_until

    def renew(self) -> bool:
        """Take or extend the lease; True when this replica is leader afterwards. A database error means
        "not leader" (the lease will expire on the server), never an exception."""
        with self._lock:
            return self._renew()

    def extend(self) -> bool:
        """Extend the term this replica holds, never start one (the heartbeat while a tick waits on a receipt:
        a new term must go through :meth:`renew`, whose caller takes over). False when not leader."""
        with self._lock:
            token = self.token
            if token is None:
                return False
            sent_at = self._clock()
            try:
                with self.store.engine.begin() as conn:
                    got = conn.execute(
                        _EXTEND, {"name": self.name, "holder": self.holder, "token": token, "ttl": self.ttl_s}
                    ).scalar()
            except sa.exc.SQLAlchemyError:
                return self.held
            if got is None:
                self.token, self._valid_until = None, float("-inf")
                return False
            self._valid_until = sent_at + self.ttl_s - self.margin_s
            return True

    def _renew(self) -> bool:
        sent_at = self._clock()
        try:
            with self.store.engine.begin() as conn:
                token = conn.execute(_RENEW, {"name": self.name, "holder": self.holder, "ttl": self.ttl_s}).scalar()
        except sa.exc.SQLAlchemyError:
            if self._clock() >= self._valid_until:
                self.token = None
            return self.held
        if token is None:
            self.token, self._valid_until = None, float("-inf")
            return False
        if token != self.token:
            self.terms += 1
        self.token = int(token)
        self._valid_until = sent_at + self.ttl_s - self.margin_s
        return True

    def check_local(self) -> None:
        if not self.held:
            raise LeaseLostError(
                f"lease {self.name!r}: {self.holder} is not leader (token {self.token}); not recording or sending"
            )

    def check(self, conn: Connection) -> int:
        """The fencing check, inside the caller's transaction: returns the token or raises LeaseLostError."""
        self.check_local()
        row = conn.execute(
            _CHECK, {"name": self.name, "holder": self.holder, "token": self.token, "margin": self.margin_s}
        ).first()
        if row is None:
            lost = self.token
            self.token, self._valid_until = None, float("-inf")
            raise LeaseLostError(
                f"lease {self.name!r}: token {lost} of {self.holder} is no longer current in "
                f"{redact(self.store.url)}; another replica leads"
            )
        return int(row.token)

    def release(self) -> None:
        """Give the lease up (clean shutdown): the follower takes over at its next renewal, not at expiry."""
        if self.token is None:
            return
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "UPDATE leases SET expires_at = clock_timestamp() "
                        "WHERE name = :name AND holder = :holder AND token = :token"
                    ),
                    {"name": self.name, "holder": self.holder, "token": self.token},
                )
        except sa.exc.SQLAlchemyError:
            pass  # unreachable: the lease expires on its own
        self.token, self._valid_until = None, float("-inf")
