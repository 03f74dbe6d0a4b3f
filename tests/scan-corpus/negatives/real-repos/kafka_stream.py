"""Reads the ride stream from a managed Kafka cluster (credentials come from client.properties)."""
from confluent_kafka import Consumer

CONFIG = read_config("client.properties")
jaas = f"org.apache.kafka.common.security.plain.PlainLoginModule required username=\"{CONFIG['sasl.username']}\" password=\"{CONFIG['sasl.password']}\";"
