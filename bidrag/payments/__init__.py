"""Paying grants out: the payee's account (accounts), the payment order to the bank as an
ISO 20022 pain.001.001.03 file (pain001), the bank's statement read back (camt) and the
vouchers for the agency's accounting as a SIE 4i file (sie).

Nothing here moves a case's state: a payment is registered through workflows.door like
the button, so the same roles, jäv and four eyes apply.
"""
