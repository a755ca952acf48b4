"""Customer notification texts in the six languages of the seed documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "upcoming_charge": (
            "Upcoming charge for order {sales_id}",
            "Dear customer, {amount} {currency} will be charged to your card on {due_date}.",
        ),
        "paid": ("Payment received for order {sales_id}", "Thank you: {amount} {currency} has been charged."),
        "payment_declined": (
            "Payment declined for order {sales_id}",
            "Your card was declined for {amount} {currency}. Please call us to update it.",
        ),
        "retries_exhausted": (
            "Card to update for order {sales_id}",
            "We tried several times to charge {amount} {currency} and your card was declined each time. Please call us with another card.",
        ),
        "update_card": (
            "Please update your card for order {sales_id}",
            "Your card was refused for {amount} {currency} and cannot be charged again (lost, stolen, closed or expired). Please give us another card.",
        ),
        "card_expiring": (
            "Card expiring for order {sales_id}",
            "Your card ending {last4} expires {expiry}, before your next shipment on {ship_date}. Please call us to update it.",
        ),
    },
    "nb": {
        "upcoming_charge": (
            "Kommende belastning for ordre {sales_id}",
            "Kjære kunde, {amount} {currency} belastes kortet ditt {due_date}.",
        ),
        "paid": ("Betaling mottatt for ordre {sales_id}", "Takk: {amount} {currency} er belastet."),
        "payment_declined": (
            "Betaling avvist for ordre {sales_id}",
            "Kortet ditt ble avvist for {amount} {currency}. Ring oss for å oppdatere det.",
        ),
        "retries_exhausted": (
            "Kortet må oppdateres for ordre {sales_id}",
            "Vi har prøvd flere ganger å belaste {amount} {currency}, og kortet ble avvist hver gang. Ring oss med et annet kort.",
        ),
        "update_card": (
            "Oppdater kortet ditt for ordre {sales_id}",
            "Kortet ditt ble avvist for {amount} {currency} og kan ikke belastes igjen (mistet, stjålet, avsluttet eller utløpt). Gi oss et annet kort.",
        ),
        "card_expiring": (
            "Kortet utløper for ordre {sales_id}",
            "Kortet ditt som slutter på {last4} utløper {expiry}, før neste forsendelse {ship_date}. Ring oss for å oppdatere det.",
        ),
    },
    "nl": {
        "upcoming_charge": (
            "Aankomende afschrijving voor order {sales_id}",
            "Beste klant, op {due_date} wordt {amount} {currency} van uw kaart afgeschreven.",
        ),
        "paid": ("Betaling ontvangen voor order {sales_id}", "Dank u: {amount} {currency} is afgeschreven."),
        "payment_declined": (
            "Betaling geweigerd voor order {sales_id}",
            "Uw kaart is geweigerd voor {amount} {currency}. Bel ons om deze bij te werken.",
        ),
        "retries_exhausted": (
            "Kaart bijwerken voor order {sales_id}",
            "We hebben meermaals geprobeerd {amount} {currency} af te schrijven en uw kaart werd telkens geweigerd. Bel ons met een andere kaart.",
        ),
        "update_card": (
            "Werk uw kaart bij voor order {sales_id}",
            "Uw kaart is geweigerd voor {amount} {currency} en kan niet opnieuw worden belast (verloren, gestolen, opgeheven of verlopen). Geef ons een andere kaart.",
        ),
        "card_expiring": (
            "Kaart verloopt voor order {sales_id}",
            "Uw kaart eindigend op {last4} verloopt {expiry}, vóór uw volgende zending op {ship_date}. Bel ons om deze bij te werken.",
        ),
    },
    "it": {
        "upcoming_charge": (
            "Addebito in arrivo per l'ordine {sales_id}",
            "Gentile cliente, il {due_date} addebiteremo {amount} {currency} sulla sua carta.",
        ),
        "paid": ("Pagamento ricevuto per l'ordine {sales_id}", "Grazie: abbiamo addebitato {amount} {currency}."),
        "payment_declined": (
            "Pagamento rifiutato per l'ordine {sales_id}",
            "La sua carta è stata rifiutata per {amount} {currency}. Ci chiami per aggiornarla.",
        ),
        "retries_exhausted": (
            "Carta da aggiornare per l'ordine {sales_id}",
            "Abbiamo provato più volte ad addebitare {amount} {currency} e la sua carta è stata sempre rifiutata. Ci chiami con un'altra carta.",
        ),
        "update_card": (
            "Aggiorni la sua carta per l'ordine {sales_id}",
            "La sua carta è stata rifiutata per {amount} {currency} e non può essere addebitata di nuovo (smarrita, rubata, chiusa o scaduta). Ci fornisca un'altra carta.",
        ),
        "card_expiring": (
            "Carta in scadenza per l'ordine {sales_id}",
            "La sua carta che termina con {last4} scade {expiry}, prima della prossima spedizione del {ship_date}. Ci chiami per aggiornarla.",
        ),
    },
    "fr": {
        "upcoming_charge": (
            "Prélèvement à venir pour la commande {sales_id}",
            "Chère cliente, cher client, {amount} {currency} seront débités le {due_date}.",
        ),
        "paid": ("Paiement reçu pour la commande {sales_id}", "Merci : {amount} {currency} ont été débités."),
        "payment_declined": (
            "Paiement refusé pour la commande {sales_id}",
            "Votre carte a été refusée pour {amount} {currency}. Appelez-nous pour la mettre à jour.",
        ),
        "retries_exhausted": (
            "Carte à mettre à jour pour la commande {sales_id}",
            "Nous avons essayé plusieurs fois de débiter {amount} {currency} et votre carte a été refusée à chaque fois. Appelez-nous avec une autre carte.",
        ),
        "update_card": (
            "Veuillez mettre à jour votre carte pour la commande {sales_id}",
            "Votre carte a été refusée pour {amount} {currency} et ne peut plus être débitée (perdue, volée, clôturée ou expirée). Merci de nous donner une autre carte.",
        ),
        "card_expiring": (
            "Carte bientôt expirée pour la commande {sales_id}",
            "Votre carte se terminant par {last4} expire {expiry}, avant votre prochain envoi du {ship_date}. Appelez-nous pour la mettre à jour.",
        ),
    },
    "sv": {
        "upcoming_charge": (
            "Kommande debitering för order {sales_id}",
            "Bästa kund, {amount} {currency} dras från ditt kort den {due_date}.",
        ),
        "paid": ("Betalning mottagen för order {sales_id}", "Tack: {amount} {currency} har dragits."),
        "payment_declined": (
            "Betalning nekad för order {sales_id}",
            "Ditt kort nekades för {amount} {currency}. Ring oss för att uppdatera det.",
        ),
        "retries_exhausted": (
            "Kortet behöver uppdateras för order {sales_id}",
            "Vi har försökt dra {amount} {currency} flera gånger och ditt kort nekades varje gång. Ring oss med ett annat kort.",
        ),
        "update_card": (
            "Uppdatera ditt kort för order {sales_id}",
            "Ditt kort nekades för {amount} {currency} och kan inte debiteras igen (förlorat, stulet, avslutat eller utgånget). Ge oss ett annat kort.",
        ),
        "card_expiring": (
            "Kortet går ut för order {sales_id}",
            "Ditt kort som slutar på {last4} går ut {expiry}, före din nästa leverans den {ship_date}. Ring oss för att uppdatera det.",
        ),
    },
}


def render(kind: str, language: str, sales_id: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and body of a notification; ``payload``: its JSON document as stored."""
    subject, body = TEXTS.get(language, TEXTS["en"]).get(kind) or TEXTS["en"][kind]
    minor = int(payload.get("amount_minor", 0))
    values = {
        "sales_id": sales_id,
        "amount": f"{minor // 100}.{minor % 100:02d}",
        "currency": payload.get("currency", ""),
        "due_date": payload.get("due_date", ""),
        "last4": payload.get("last4", ""),
        "expiry": payload.get("expiry", ""),
        "ship_date": payload.get("ship_date", ""),
    }
    return subject.format(**values), body.format(**values)
