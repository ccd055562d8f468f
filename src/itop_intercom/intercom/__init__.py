"""intercom"""
