"""The objects an invitation describes, read for one Subscription: its Site, covered Chargers, Tariffs.

``chargeops.invitations.offer.describe`` turns them into sentences; the email the operator sends and the
page the portal shows are made from the same function, so they never disagree.
"""

import dataclasses
from zoneinfo import ZoneInfo

from chargeops.api.v1alpha1 import Charger, Site, Subscription, Tariff
from chargeops.billing import periods
from chargeops.billing.errors import InvalidTimeZoneError
from chargeops.invitations import offer
from chargeops.invitations.errors import TariffUnavailableError
from chargeops.operator import subscriptions as coverage
from chargeops.portal.cluster import Cluster
from chargeops.portal.errors import LinkRefusedError


@dataclasses.dataclass(frozen=True)
class Facts:
    """A Subscription with what it refers to."""

    subscription: Subscription
    site: Site
    chargers: list[Charger]
    tariffs: dict[str, Tariff]

    @property
    def tz(self) -> ZoneInfo:
        """The site's zone; UTC when its name is not in this machine's tz database (the operator reports
        that on the Site, and a page in UTC beats no page)."""
        return zone_of(self.site)

    def offer(self) -> offer.Offer:
        """The offer in words; refused for now while a tariff it needs is missing (an offer without its
        prices is no offer, and the operator reports the missing tariff)."""
        try:
            return offer.describe(self.site, self.subscription, self.chargers, self.tariffs)
        except TariffUnavailableError:
            raise LinkRefusedError(
                "OfferUnavailable",
                "The prices of this offer are being changed, so it cannot be shown right now. Please try again later.",
                status=503,
                title="Please try again later",
            ) from None


async def site_of(cluster: Cluster, subscription: Subscription) -> Site:
    """The Site of ``subscription``; a page for a site that is gone cannot say anything true."""
    namespace = str(subscription.metadata["namespace"])
    site = await cluster.site(namespace, subscription.spec.site_ref.name)
    if site is None:
        raise LinkRefusedError(
            "SiteGone",
            "The charging site this link was for no longer exists.",
            status=410,
            title="This link is no longer valid",
        )
    return site


async def gather(cluster: Cluster, subscription: Subscription, *, site: Site) -> Facts:
    """``subscription`` with the Chargers it covers and every Tariff that may price its sessions."""
    namespace = str(subscription.metadata["namespace"])
    chargers = [charger for charger in await cluster.chargers(namespace) if coverage.covers(subscription, charger)]
    chargers.sort(key=lambda charger: str(charger.metadata.get("name")))
    names = {ref.name for charger in chargers if (ref := charger.spec.charging_mode.tariff_ref) is not None}
    if subscription.spec.tariff_ref is not None:
        names.add(subscription.spec.tariff_ref.name)
    tariffs = {name: tariff for name in sorted(names) if (tariff := await cluster.tariff(namespace, name))}
    return Facts(subscription=subscription, site=site, chargers=chargers, tariffs=tariffs)


def zone_of(site: Site) -> ZoneInfo:
    """The site's zone, or UTC when this machine does not know it."""
    try:
        return periods.zone(site.spec.time_zone)
    except InvalidTimeZoneError:
        return ZoneInfo("UTC")
