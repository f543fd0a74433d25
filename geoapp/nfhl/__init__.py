"""nfhl"""
