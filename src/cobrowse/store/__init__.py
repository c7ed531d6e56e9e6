"""Durable data: users, sites, agent sign-ins and the audit log (SQLAlchemy, async).

Never page content: the store holds metadata only (PRODUCT.md §8).
"""
