"""itop"""
